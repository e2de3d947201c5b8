"""WSGI entry for production web nodes: ``gunicorn -w 1 --threads 100 dashboard.wsgi:app``.

Web nodes serve pages and push; cameras are pulled by ingest nodes
(``watchwall ingest``) that emit through the Redis message queue.
"""

from dashboard.app import create_app
from dashboard.serve_cli import prepare

dash_app = create_app(prepare())
app = dash_app.server
