"""Pure text processing for the knowledge base: no models, no Flask, no I/O.

* :mod:`.text` normalises and tokenises text and reduces words to stems per language;
* :mod:`.language` detects the language of a question (and of a question/answer pair);
* :mod:`.scrub` removes personal data (names, emails, phones, card and order numbers, secret
  links) before anything extracted is stored;
* :mod:`.pairing` pairs customer questions with the manager replies that answered them;
* :mod:`.scoring` scores how well a question matches an entry's phrasings and answer.

The services in :mod:`gincore_chats.services.knowledge` store and query what these compute.
"""
