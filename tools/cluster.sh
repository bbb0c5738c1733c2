#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for development and CI's optional stage (`make cluster`,
# `make cluster-down`). Debian/Ubuntu packages (slurm-wlm, munge), daemons as root.
#
#   tools/cluster.sh up      install slurm-wlm + munge when missing, write /etc/slurm/slurm.conf sized to this
#                            machine (cores and memory from `slurmd -C`, GPUs as gres when nvidia-smi lists any),
#                            start munged, slurmctld and slurmd, wait until `sinfo` shows the node idle
#   tools/cluster.sh down    cancel the jobs left on it, stop exactly the daemons `up` started (PIDs in .cluster/pids)
#   tools/cluster.sh status  the daemons recorded and what sinfo/squeue say
#
# Idempotent: `up` on a running cluster only checks it; `down` without one does nothing. Everything the daemons
# write (state, spool, logs, PID files) lives in <project>/.cluster/ (git-ignored); outside the project only the
# packages, /etc/slurm/slurm.conf (+ gres.conf with GPUs) and munge's runtime folder /run/munge are touched.
# `down` leaves slurm.conf in place (it names its writer in its first line; `up` rewrites only such a file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.cluster"
PIDS="$STATE/pids"
CONF=/etc/slurm/slurm.conf
GRES_CONF=/etc/slurm/gres.conf
MARK="# written by zmix tools/cluster.sh"
PARTITION="${ZMIX_PARTITION:-debug}"

die() { echo "error: $*" >&2; exit 2; }
say() { echo "cluster: $*"; }

SUDO=()
need_root() {
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); return; fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); return; fi
  die "make cluster needs root or passwordless sudo (to install slurm-wlm/munge, write $CONF and start the daemons as root); user $(id -un) has neither"
}

alive() {  # alive PID NAME: the process exists and is still the program we started
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

recorded() {  # recorded NAME -> the PID recorded for NAME (empty when none)
  [ -f "$PIDS" ] && awk -v n="$1" '$1 == n {print $2}' "$PIDS" | tail -n 1 || true
}

record() { echo "$1 $2" >>"$PIDS"; }

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v sinfo >/dev/null 2>&1 || missing+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null 2>&1 || die "slurm-wlm/munge are missing and there is no apt-get here; install SLURM and munge by hand"
  say "installing ${missing[*]} (apt-get)"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$STATE/apt.log" 2>&1 \
    || { "${SUDO[@]}" apt-get update -q >>"$STATE/apt.log" 2>&1 \
         && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$STATE/apt.log" 2>&1; } \
    || die "apt-get install ${missing[*]} failed; see $STATE/apt.log"
}

write_config() {
  local node cpus_line gres_line="" gres_types="" ngpu=0
  if [ -f "$CONF" ] && ! head -n 1 "$CONF" | grep -qF "$MARK"; then
    die "$CONF exists and was not written by tools/cluster.sh; move it aside (this script never overwrites a foreign SLURM configuration)"
  fi
  node="$(hostname -s)"
  # the node line exactly as slurmd measures this machine (CPUs, sockets, cores, threads, RealMemory in MiB)
  cpus_line="$(slurmd -C 2>/dev/null | head -n 1)"
  [[ "$cpus_line" == NodeName=* ]] || die "slurmd -C did not describe this machine (got: ${cpus_line:-nothing})"
  if command -v nvidia-smi >/dev/null 2>&1; then
    ngpu="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)"
  fi
  if [ "${ngpu:-0}" -gt 0 ]; then
    gres_types="GresTypes=gpu"
    gres_line=" Gres=gpu:$ngpu"
    { echo "$MARK"; echo "NodeName=$node Name=gpu File=/dev/nvidia[0-$((ngpu - 1))]"; } | "${SUDO[@]}" tee "$GRES_CONF" >/dev/null
  elif [ -f "$GRES_CONF" ] && head -n 1 "$GRES_CONF" | grep -qF "$MARK"; then
    "${SUDO[@]}" rm -f "$GRES_CONF"
  fi
  mkdir -p "$STATE/state" "$STATE/spool" "$STATE/log"
  "${SUDO[@]}" tee "$CONF" >/dev/null <<EOF
$MARK for the project at $ROOT (make cluster); make cluster-down stops its daemons
ClusterName=zmix
SlurmctldHost=$node(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
# the grace between the SIGTERM and the SIGKILL of a cancel or requeue: short, so that an interrupted run stops
# mid-training (submitit ignores the SIGTERM; tests/test_slurm.py sizes its run to outlast this many times over)
KillWait=2
MinJobAge=60
InactiveLimit=0
SlurmdTimeout=300
$gres_types
$cpus_line$gres_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  say "wrote $CONF ($(echo "$cpus_line" | grep -o 'CPUs=[0-9]*'), $(echo "$cpus_line" | grep -o 'RealMemory=[0-9]*') MiB, GPUs: $ngpu)"
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then
    say "munged already answers (not started here: left running by 'down')"
    return
  fi
  [ -f /etc/munge/munge.key ] || { "${SUDO[@]}" runuser -u munge -- mungekey --create >/dev/null 2>&1 || die "no /etc/munge/munge.key and mungekey --create failed"; }
  "${SUDO[@]}" mkdir -p /run/munge
  "${SUDO[@]}" chown munge:munge /run/munge
  "${SUDO[@]}" chmod 0755 /run/munge
  "${SUDO[@]}" runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge_ok && break; sleep 0.2; done
  munge_ok || die "munged did not answer after start; see /var/log/munge/munged.log"
  local pid
  pid="$(cat /run/munge/munged.pid 2>/dev/null || pgrep -u munge -x munged | head -n 1)"
  record munged "$pid"
  say "munged started (pid $pid)"
}

start_daemon() {  # start_daemon NAME PIDFILE
  local name=$1 pidfile=$2 pid
  pid="$(recorded "$name")"
  if alive "$pid" "$name"; then say "$name already running (pid $pid)"; return; fi
  rm -f "$pidfile"
  "${SUDO[@]}" "/usr/sbin/$name" || die "$name failed to start; see $STATE/log/$name.log"
  for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.2; done
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  alive "$pid" "$name" || die "$name exited right after start; see $STATE/log/$name.log"
  record "$name" "$pid"
  say "$name started (pid $pid)"
}

wait_idle() {
  local state="" node
  node="$(hostname -s)"
  for i in $(seq 120); do
    state="$(sinfo -h -N -n "$node" -o '%t' 2>/dev/null | head -n 1 || true)"
    case "$state" in
      idle|mix|alloc) say "node $node is $state (partition $PARTITION); sinfo:"; sinfo; return ;;
      down*|drain*|drng*)
        [ "$i" -gt 5 ] && "${SUDO[@]}" scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  die "node $node did not become idle within 60 s (sinfo state: ${state:-no answer}); see $STATE/log/"
}

up() {
  need_root
  mkdir -p "$STATE"
  install_packages
  local ctl d
  ctl="$(recorded slurmctld)"; d="$(recorded slurmd)"
  if alive "$ctl" slurmctld && alive "$d" slurmd && munge_ok && sinfo -h >/dev/null 2>&1; then
    say "already up (slurmctld $ctl, slurmd $d)"
    wait_idle
    return
  fi
  write_config
  start_munge
  start_daemon slurmctld "$STATE/slurmctld.pid"
  start_daemon slurmd "$STATE/slurmd.pid"
  wait_idle
}

down() {
  if [ ! -f "$PIDS" ]; then say "not running (no $PIDS)"; return; fi
  need_root
  local ctl
  ctl="$(recorded slurmctld)"
  if alive "$ctl" slurmctld && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
    say "cancelling the jobs left on the cluster: $(squeue -h -o %i | tr '\n' ' ')"
    "${SUDO[@]}" scancel --quiet "$(squeue -h -o %i | tr '\n' ' ')" 2>/dev/null || "${SUDO[@]}" scancel --quiet --partition "$PARTITION" || true
    for _ in $(seq 60); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for name in slurmd slurmctld munged; do  # reverse start order
    for pid in $(awk -v n="$name" '$1 == n {print $2}' "$PIDS"); do
      if alive "$pid" "$name"; then
        "${SUDO[@]}" kill "$pid"
        for _ in $(seq 50); do alive "$pid" "$name" || break; sleep 0.2; done
        if alive "$pid" "$name"; then "${SUDO[@]}" kill -9 "$pid"; fi
        say "stopped $name (pid $pid)"
      fi
    done
  done
  rm -f "$PIDS"
}

status() {
  if [ -f "$PIDS" ]; then
    while read -r name pid; do
      if alive "$pid" "$name"; then echo "$name $pid running"; else echo "$name $pid gone"; fi
    done <"$PIDS"
  else
    echo "no daemons recorded ($PIDS)"
  fi
  sinfo 2>/dev/null && squeue 2>/dev/null || echo "sinfo does not answer"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: tools/cluster.sh up|down|status" >&2; exit 2 ;;
esac
