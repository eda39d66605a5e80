"""Services: the only code that changes rows. Each module owns one noun.

Functions named ``do_*`` change state and register their side effects with
:func:`~gincore_chats.services.unit_of_work.after_commit`; ``access_*`` fetch with a permission
check; the rest read.
"""
