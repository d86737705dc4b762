"""Dashboard widgets: line-API metric panels, header, diagnosis and process panes."""
