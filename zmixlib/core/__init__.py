"""The vocabulary everything shares: argument checks (``checks``), file and thread helpers (``util``), the
theory of the p-series weights (``theory``), method / architecture names and colours (``vocab``) and device
resolution and seeding (``device``). Imports nothing else of zmixlib.
"""
