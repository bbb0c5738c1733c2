"""Protocol modules of the book's chapters: what a chapter needs beyond the engine (an experiment's
protocol, its profile sizes), one module per chapter. Algorithms live in the library's layers below."""
