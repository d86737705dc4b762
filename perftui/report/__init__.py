"""Reports of recordings (Markdown, HTML, JSON) and the comparison of two recordings."""
