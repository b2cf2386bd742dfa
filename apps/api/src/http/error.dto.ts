import { ApiProperty } from '@nestjs/swagger';
import type { ApiErrorBody } from '@app/shared';

export class ErrorDto implements ApiErrorBody {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found' })
  error!: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Job not found',
    description: 'What went wrong, for a person; a list of field errors for invalid input',
  })
  message!: string | string[];
}
