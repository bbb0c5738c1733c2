"""What a chapter runs under each profile: the profile table and per-chapter sizes (``profiles``), the papers'
recipes and the run matrices built from them (``recipes``), the regime check (``regime``) and a notebook's
setup from its parameters cell (``config``). Imports ``core``, ``data`` and ``engine``.
"""
