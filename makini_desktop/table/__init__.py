"""The rows of a table without Qt: name lookups, cell text and sort keys, and the row index.

* :mod:`.lookups`: the names of the records other datasets refer to (buildings, floors).
* :mod:`.cells`: what a cell shows, its tooltip, its sort key and a row's search text.
* :mod:`.rowindex`: :class:`~.rowindex.RowIndex`, the rows of one view sorted, searched and
  filtered, which answers every change with a :class:`~.rowindex.Plan` that a Qt model emits.

Nothing here imports Qt: ``ui/table_model.py`` adapts it to ``QAbstractTableModel``.
"""
