"""Team channels: a team's Slack or Microsoft Teams channel hears of the
events it chose, one short line and a link back, each posted exactly once
(``ChannelDelivery``), never showing what a member of the team could not see.
"""
