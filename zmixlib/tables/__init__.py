"""Chapters' tables: training what a table lacks and reading the records (``report``), the papers' numbers and the
seed pairing beside them (``paper``), the shared plot style (``plots``). Imports every layer below it
(``core`` … ``protocol``, ``analysis``).
"""
