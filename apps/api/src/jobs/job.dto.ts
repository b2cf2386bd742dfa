import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import {
  DEFAULT_PAGE_SIZE,
  FILE_TYPES,
  FileType,
  JOB_ERROR_CODES,
  JOB_STATUSES,
  JobErrorCode,
  JobPage,
  JobStatus,
  JobView,
  MAX_PAGE_SIZE,
  Rejected,
  REJECTION_CODES,
  RejectionCode,
  THUMBNAIL_POSITIONS,
  ThumbnailPosition,
  UploadResult,
} from '@app/shared';

export class JobDto implements JobView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'holiday.jpg' }) originalFilename!: string;
  @ApiProperty({ enum: FILE_TYPES }) fileType!: FileType;
  @ApiProperty({ example: 'image/jpeg' }) mimeType!: string;
  @ApiProperty({ example: 2483021, description: 'Bytes' }) fileSize!: number;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why it failed, for a person' }) errorMessage!: string | null;
  @ApiProperty({
    enum: JOB_ERROR_CODES,
    nullable: true,
    example: null,
    description: 'Why it failed, machine-readable; null unless failed (and for jobs that failed before codes existed)',
  })
  errorCode!: JobErrorCode | null;
  @ApiProperty({
    description:
      'Whether a retry may help: false when the file itself is the problem (undecodable, truncated, no video stream, too many pixels…)',
  })
  retryable!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Signed, expiring URL of the thumbnail; works in an <img> tag' })
  thumbnailUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Signed, expiring URL that downloads the thumbnail as an attachment' })
  downloadUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Signed URL of the 2× thumbnail (for srcset)' })
  thumbnail2xUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Signed URL of the WebP preview, longest edge PREVIEW_SIZE' })
  previewUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Videos: signed URL of an animated WebP of a few frames across the clip' })
  animatedPreviewUrl!: string | null;
  @ApiProperty({
    description:
      'Signed URL of the original, streamed with its sniffed type and `Range` support (for a <video> tag); present in every state',
    example: '/api/originals/0190a7e2-…?exp=…&sig=…',
  })
  originalUrl!: string;
  @ApiProperty({ type: String, nullable: true, description: 'ThumbHash of the thumbnail, base64 (a placeholder while it loads)' })
  thumbhash!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Width of the original after orientation, pixels' }) width!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Height of the original after orientation, pixels' }) height!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Videos: length in milliseconds' }) durationMs!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Hash of the original’s bytes (duplicate detection); null until computed' })
  contentHash!: string | null;
  @ApiProperty({ enum: THUMBNAIL_POSITIONS, description: 'Where the square renditions are cropped' }) position!: ThumbnailPosition;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it went to the trash; null otherwise' })
  deletedAt!: string | null;
}

export class JobPageDto implements JobPage {
  @ApiProperty({ type: [JobDto] }) items!: JobDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page; null on the last page' })
  nextCursor!: string | null;
}

export class RejectedDto implements Rejected {
  @ApiProperty({ example: 'notes.txt' }) originalFilename!: string;
  @ApiProperty({ enum: REJECTION_CODES }) code!: RejectionCode;
  @ApiProperty({ example: '“notes.txt” is not a supported image or video.' }) message!: string;
}

export class UploadResultDto implements UploadResult {
  @ApiProperty({ type: [JobDto] }) jobs!: JobDto[];
  @ApiProperty({ type: [RejectedDto] }) rejected!: RejectedDto[];
}

export class UploadRequestDto {
  @ApiProperty({ type: 'array', items: { type: 'string', format: 'binary' }, description: 'One or more images or videos' })
  files!: unknown[];
  @ApiPropertyOptional({
    enum: THUMBNAIL_POSITIONS,
    description:
      'Where the square renditions of these files are cropped (`attention`: the salient region; `entropy`: the busiest); default THUMBNAIL_POSITION',
  })
  position?: ThumbnailPosition;
}

export class ListJobsQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cursor?: string;
}
