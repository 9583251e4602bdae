/** A Go template that does not parse or fails to execute; apart so error reporting needs no template engine loaded. */
export class TemplateError extends Error {}
