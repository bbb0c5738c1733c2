"""The book: executing the notebooks with papermill (``bookrun``), building the Jupyter Book (``book``), its HTML
checks (``bookhtml``) and the build report (``bookreport``). The top layer with ``zmixlib.cli``; nothing imports it
but the command line.
"""
