import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, MaxLength } from 'class-validator';
import { ARCHIVE_CONTENTS, ArchiveContent, MAX_ARCHIVE_IDS } from '@app/jobs';

export class CreateArchiveDto {
  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_ARCHIVE_IDS, description: 'Job ids, in the order of the entries' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ARCHIVE_IDS)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  ids!: string[];

  @ApiProperty({ enum: ARCHIVE_CONTENTS, description: 'thumbnails (JPEG, named <original name>.jpg) or the originals' })
  @IsIn(ARCHIVE_CONTENTS)
  content!: ArchiveContent;
}

export class ArchiveDto {
  @ApiProperty({
    example: '/api/archives/q7dHcGB1RrS1r3x2Qm9sXw.zip?exp=1767225600&sig=…',
    description: 'Signed URL streaming application/zip',
  })
  url!: string;
  @ApiProperty({ format: 'date-time', description: 'When the URL stops working' }) expiresAt!: string;
}
