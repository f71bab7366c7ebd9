"""The web app (Gradio): app.py builds the chat and reports pages (build_demo, serve), speakers.py the Speakers page."""
