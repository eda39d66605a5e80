"""The website widget's own settings and data: consent options, texts per language, and the
visitor's browser context."""
