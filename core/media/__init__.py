"""Media toolkit: probing, audio extraction and ffmpeg, behind the ``MediaToolkit`` port."""
