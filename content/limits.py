"""Length limits on content, set by the tightest platform that shows each field.

Renderers still enforce their platform's own limits; these keep authors from writing text that no platform can show
whole (Slack header 150 chars and section 3,000; Discord embed description 4,096 and field value 1,024).
"""

TITLE = 150  # Slack header block (plain text)
FAQ_BODY = 4000  # Discord embed description (4,096) with room for the renderer's small print
PARAGRAPH = 3000  # Slack section text
QUESTION = 200
ALIAS = 40
PAPER_WHY = 1000  # Discord embed field value (1,024)
PAPER_PROMPT = 500
PROMPT_TEXT = 1000
TRACK_DESCRIPTION = 500
RECALL_QUESTION = 200  # a review card's question: one line on every platform
RECALL_ANSWER = 320  # its short answer: one or two sentences, revealed under the question when rated
RECALL_SENTENCES = 2
MEMBER_QUERY = 500  # how much of a member's free text the matcher reads
