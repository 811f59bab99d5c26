"""The team core: what a team does, written once, for every framework.

The plan of tasks, the rules of each topology (hand-offs, caps, termination, approval,
the supervisor's stop) with every warning text, the agent-turn protocol (tool rounds, the
structured answer, its retry) and the support matrix. It imports no framework: the
LangGraph builders (`graphs/`), the CrewAI and the AutoGen runners (`agents/`) translate it.
"""
