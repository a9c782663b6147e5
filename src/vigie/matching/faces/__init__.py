"""Faces across a case: the neighbour index, persons (groups, names, search), face rescans."""
