"""The knowledge base's writers and queries (the only code that changes its rows).

``entries`` writes entries and phrasings (edit, publish, archive, merge, split), ``index``
keeps their search columns and term statistics, ``retrieval`` answers questions,
``candidates`` turns extracted pairs into new entries or new phrasings of existing ones,
``extraction`` mines conversations, ``transfer`` imports and exports, ``settings`` holds the
thresholds and switches.
"""
