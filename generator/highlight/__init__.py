"""The code listings' highlighting: ``cache`` keeps each highlighted block across builds, ``lexer``
is Pygments' Python lexer with every state's rules tried as one regular expression."""
