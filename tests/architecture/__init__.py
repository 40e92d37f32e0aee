"""The source tree's own rules: layer imports, module and class sizes."""
