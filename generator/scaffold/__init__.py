"""``papernotes new KEY``: a new note's BibTeX entry, note and check skeleton, written all or nothing."""
