"""WSGI entry for production web nodes: ``gunicorn -w 1 --threads 100 dashboard.wsgi:app``.

Web nodes serve pages and push; cameras are pulled by ingest nodes
(``watchwall ingest``) that emit through the Redis message queue.
"""

from watchwall.dashboard.app import create_app
from watchwall.dashboard.serve_cli import prepare, watch_inventory

context = prepare()
dash_app = create_app(context)
app = dash_app.server
inventory_watch = watch_inventory(context)  # pages list cameras added to the inventory meanwhile
