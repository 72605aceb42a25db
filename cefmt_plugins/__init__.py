"""First-party cefmt plugins; each is found through the ``cefmt.codecs`` entry points like any other."""
