"""Statistics and geometry that read numbers, never train: paired intervals, power and seeds needed (``stats``),
local intrinsic dimension (``intrinsic``), manifold geometry of mixed samples (``geometry``). Imports ``core``,
``mixing`` and ``data``.
"""
