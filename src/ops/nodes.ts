// Command nodes xmppadm knows, by family.
export const XEP0133 = 'http://jabber.org/protocol/admin'
export const admin = (name: string) => `${XEP0133}#${name}`
export const api = (name: string) => `api-commands/${name}`
/** Nodes of xmppadm's own server module (server/prosody/mod_xmppadm.lua; spec in its README). */
export const XMPPADM_NS = 'urn:xmppadm:admin:1'
export const mod = (name: string) => `${XMPPADM_NS}#${name}`
