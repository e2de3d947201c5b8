"""Geography of the case data: county outlines, subjects' assigned areas, and the geometry behind them.

Every coordinate in WatchWall is WGS-84 longitude/latitude (see ``assets/maps/README.md``).
"""
