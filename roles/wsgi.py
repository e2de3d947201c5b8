"""WSGI entry of the web role for a gunicorn command line of your own:
``gunicorn -k gthread -w 1 --threads 100 "watchwall.roles.wsgi:app"``.

``watchwall web`` runs the same app with the same settings; see ``watchwall.roles.web``.
"""

from watchwall.roles.web import build_web_app

app = build_web_app()
