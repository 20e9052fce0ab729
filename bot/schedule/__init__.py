"""The clock side: the ticker finds what is due, the outbox holds it, the dispatcher delivers it through a Sender."""
