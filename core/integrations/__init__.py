"""Integrations with the outside services Recast talks to: their stored installations, links and secrets.

Slack: installations (OAuth v2 store), workspace/channel links to organizations and client accounts,
signed invites, onboarding state, and its tokens encrypted at rest. Platform connections come next.
"""
