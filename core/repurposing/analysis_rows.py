"""The `content_analysis` row and the analysis value object, both ways."""

from __future__ import annotations

from decimal import Decimal

from core.ai.analysis.results import ContentAnalysisResult
from core.common.clock import utcnow
from core.content.models import ContentAnalysis


def analysis_result(row: ContentAnalysis) -> ContentAnalysisResult:
    """Rebuild the analysis value object from its `content_analysis` row."""
    return ContentAnalysisResult.model_validate(
        {
            "topics": row.topics or [],
            "keywords": row.keywords or [],
            "entities": row.entities or {"persons": [], "organizations": [], "locations": []},
            "sentiment_score": round(float(row.sentiment_score or 0)),
            "emotions": row.emotion_analysis or {},
            "hook_moments": row.hook_moments or [],
            "key_insights": row.key_insights or [],
            "quotable_moments": row.quotable_moments or [],
            "virality_score": float(row.virality_score or 0),
            "repurposing_value": float(row.repurposing_value or 0),
            "seo_score": float(row.seo_score or 0),
            "engagement_potential": float(row.engagement_potential or 0),
            "platform_scores": row.platform_scores
            or {"linkedin": 0, "twitter": 0, "instagram": 0, "youtube": 0, "blog": 0},
            "language": row.transcript_language or "en",
            "model": row.analysis_model or "unknown",
        }
    )


def store_analysis(row: ContentAnalysis, result: ContentAnalysisResult) -> None:
    data = result.model_dump(mode="json")
    row.topics = data["topics"]
    row.keywords = data["keywords"]
    row.entities = data["entities"]
    row.sentiment_score = Decimal(str(data["sentiment_score"]))
    row.emotion_analysis = data["emotions"]
    row.hook_moments = data["hook_moments"]
    row.key_insights = data["key_insights"]
    row.quotable_moments = data["quotable_moments"]
    for name in ("virality_score", "repurposing_value", "seo_score", "engagement_potential"):
        setattr(row, name, Decimal(str(round(float(data[name]), 2))))
    row.platform_scores = data["platform_scores"]
    if result.language != "en":
        # The analyser reads what the transcriber could not tell (a pasted Hinglish text is stored as 'en'), and
        # the writer takes its tone and script from this.
        row.transcript_language = result.language[:10]
    row.analysis_model = result.model[:100]
    row.analyzed_at = utcnow()
