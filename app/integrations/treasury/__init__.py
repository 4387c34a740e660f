"""The treasury's files (#13): the export of postings in the city's layout and the payment import.

Integrations may import services, never the reverse (docs/architektur.md). The postings themselves are
written by ``app/services/treasury_postings.add_posting`` (loans, shelter fees); the contract is docs/kasse.md.
"""
