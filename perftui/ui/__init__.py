"""The live dashboard (Textual). Nothing outside this package and commands/dashboard.py imports Textual."""
