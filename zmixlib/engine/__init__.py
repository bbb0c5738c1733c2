"""One training engine: a run's spec (``runspec``), the models (``models``), metrics (``metrics``), the training
loop (``train``), the run store with its checksummed records and weights (``store``) and the executors that
train a matrix of runs (``workers``: processes; ``sweep``: inline, processes or SLURM via submitit). Imports
``core``, ``mixing`` and ``data`` only; knows nothing of profiles, chapters or the book.
"""
