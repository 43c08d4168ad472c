// Command nodes xmppadm knows, by family.
export const XEP0133 = 'http://jabber.org/protocol/admin'
export const admin = (name: string) => `${XEP0133}#${name}`
export const api = (name: string) => `api-commands/${name}`
/** Nodes of xmppadm's own server modules (server/prosody, server/ejabberd; spec in server/CONTRACT.md). */
export const XMPPADM_NS = 'urn:xmppadm:admin:1'
export const mod = (name: string) => `${XMPPADM_NS}#${name}`
