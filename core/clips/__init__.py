"""Short vertical clips: choosing moments, captions, reframed renders and the `video_to_shorts` job."""
