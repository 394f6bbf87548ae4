"""Render: an edition becomes a subject, a preheader, an HTML body and a text body, once."""
