"""The tour: the tutorial's sections as functions that print (and later plot) their results."""
