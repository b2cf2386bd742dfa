import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse } from '@nestjs/swagger';
import type { ApiKeyScope } from '@app/shared';
import { ErrorDto } from './error.dto';

/** Name of the OpenAPI security scheme of API keys (`Authorization: Bearer thumbs_…`), beside the JWT bearer scheme. */
export const API_KEY_SECURITY = 'api-key';

/**
 * Swagger of a route an API key holding `scope` may call (the guard's rule is RequiresScope, or
 * GET's default `read`): the key scheme (beside the access token's `ApiBearerAuth()`, on the route
 * or its controller: Swagger adds up the two), and the 403 of a key without it.
 */
export function ApiKeyAccess(scope: ApiKeyScope): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiBearerAuth(API_KEY_SECURITY),
    ApiForbiddenResponse({ type: ErrorDto, description: `An API key without the \`${scope}\` scope` }),
  );
}
