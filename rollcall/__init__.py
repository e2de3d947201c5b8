"""Video roll-call (视频点名): city command calls county centres' duty rooms; each centre answers 到
in front of its roll-call camera; the recorded span is checked for a face; failures open incidents."""
