"""The front end's outputs: running the checks over adapters (run.py), and rendering the
results as text for the terminal (text.py, console.py), Markdown (markdown.py), JSON
(run.py) and plots (plots.py)."""
