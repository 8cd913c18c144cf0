"""treffpunkt's common library."""
