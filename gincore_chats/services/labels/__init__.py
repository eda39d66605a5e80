"""Labels: the admins' catalog (catalog), labels on conversations (tagging), and what reports
and lists read of them (grouping)."""
