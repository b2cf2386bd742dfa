/** Name of the OpenAPI security scheme of API keys (`Authorization: Bearer thumbs_…`), beside the JWT bearer scheme. */
export const API_KEY_SECURITY = 'api-key';
