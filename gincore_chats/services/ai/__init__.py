"""AI replies in three modes (humans only, AI first with hand-off, AI only).

One noun per module: :mod:`.settings` (per source), :mod:`.calls` (the call log, costs and the
daily limit), :mod:`.breaker` (repeated provider failures), :mod:`.assistant_state` (does the
assistant still answer a conversation), :mod:`.prompt` (what the provider is sent),
:mod:`.handoff`, :mod:`.replies` (the reply turn, run by ``jobs.ai``) and :mod:`.drafts`.

Nothing is imported here: the message services, below these, reach :mod:`.assistant_state`
and :mod:`.replies` through the receivers of ``services.hooks`` they connect (imported by
``extension``).
"""
