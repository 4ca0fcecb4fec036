"""Drop-in layers for code written against other memory libraries."""
