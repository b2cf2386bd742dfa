import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
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
import { BULK_ACTIONS, BulkAction, BulkResult, BulkSkipReason, JOB_SORTS, JobSort, LibraryStats, MAX_BULK_IDS } from '@app/jobs';
import { ErrorDto } from '../http/error.dto';

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
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` (with the same sort) for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

export class RejectedDto implements Rejected {
  @ApiProperty({ example: 'notes.txt' }) originalFilename!: string;
  @ApiProperty({ enum: REJECTION_CODES }) code!: RejectionCode;
  @ApiProperty({ example: '“notes.txt” is not a supported image or video.' }) message!: string;
  @ApiPropertyOptional({ format: 'uuid', description: '`duplicate`: your job that already has this content' }) existingJobId?: string;
}

/** A refused upload (400, 413): the error, and per file why when files were looked at. */
export class UploadRefusedDto extends ErrorDto {
  @ApiPropertyOptional({ type: [RejectedDto], description: 'Each file and why it was refused (absent when the request itself was bad)' })
  rejected?: RejectedDto[];
}

export class UploadResultDto implements UploadResult {
  @ApiProperty({ type: [JobDto] }) jobs!: JobDto[];
  @ApiProperty({ type: [RejectedDto] }) rejected!: RejectedDto[];
}

export class UploadRequestDto {
  @ApiProperty({ type: 'array', items: { type: 'string', format: 'binary' }, description: 'One or more images or videos' })
  files!: unknown[];

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Send before the files. `true` uploads files whose content you already have; otherwise they are rejected as `duplicate`',
  })
  allowDuplicates?: string;

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
  // Decimal digits only: Number() would also read "0x10", "1e2" or " 5 " as numbers.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^[0-9]{1,6}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ enum: FILE_TYPES, description: 'Only images or only videos' })
  @IsOptional()
  @IsIn(FILE_TYPES)
  type?: FileType;

  @ApiPropertyOptional({
    maxLength: 200,
    description:
      'Only jobs whose file name contains this, any case (taken literally: % and _ are plain characters); control characters are refused',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  // Stored names have none, and SQLite's LIKE stops reading its pattern at a NUL (which then matched every job).
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  @Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'q must not contain control characters' })
  q?: string;

  @ApiPropertyOptional({
    enum: JOB_SORTS,
    default: 'newest',
    description: 'newest/oldest: upload time; name: file name, any case, A→Z; size: largest first. Ties go by id.',
  })
  @IsOptional()
  @IsIn(JOB_SORTS)
  sort?: JobSort;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page (opaque; only valid with the same sort)' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  cursor?: string;

  @ApiPropertyOptional({ type: Boolean, description: 'true: the trash (deleted jobs, restorable until TRASH_TTL) instead of the library' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => queryBoolean(value))
  @IsBoolean({ message: 'trashed must be true or false' })
  trashed?: boolean;
}

export class DeleteJobQueryDto {
  @ApiPropertyOptional({ type: Boolean, description: 'true: remove the job and its files at once instead of moving it to the trash' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => queryBoolean(value))
  @IsBoolean({ message: 'permanent must be true or false' })
  permanent?: boolean;
}

/** A query-string flag: exactly `true` or `false`; anything else is left for the validator to refuse. */
function queryBoolean(value: unknown): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}

export class StatusCountsDto implements Record<JobStatus, number> {
  @ApiProperty() pending!: number;
  @ApiProperty() queued!: number;
  @ApiProperty() processing!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() failed!: number;
}

export class TypeCountsDto implements Record<FileType, number> {
  @ApiProperty() image!: number;
  @ApiProperty() video!: number;
}

export class JobStatsDto implements LibraryStats {
  @ApiProperty({ description: 'Jobs in the library (the trash not counted)' }) total!: number;
  @ApiProperty({ type: StatusCountsDto, description: 'Library jobs by status' }) byStatus!: StatusCountsDto;
  @ApiProperty({ type: TypeCountsDto, description: 'Library jobs by file type' }) byType!: TypeCountsDto;
  @ApiProperty({ description: 'Bytes of originals kept, the trash included (its files are kept until it is purged)' }) bytes!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'USER_QUOTA_BYTES; null when there is no quota' }) quotaBytes!: number | null;
  @ApiProperty({ description: 'Jobs in the trash' }) trashed!: number;
}

export class BulkRequestDto {
  @ApiProperty({ enum: BULK_ACTIONS, description: 'delete: to the trash; restore: out of it; retry: failed jobs queued again' })
  @IsIn(BULK_ACTIONS)
  action!: BulkAction;

  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_BULK_IDS, description: 'Job ids (duplicates count once)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_IDS)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  ids!: string[];
}

export class BulkSkippedDto {
  @ApiProperty() id!: string;
  @ApiProperty({
    enum: ['not_found', 'not_failed', 'changed'],
    description: "not_found: no such job or someone else's; not_failed: only failed jobs are retried; changed: it moved meanwhile",
  })
  reason!: BulkSkipReason;
}

export class BulkResultDto implements BulkResult {
  @ApiProperty({
    type: [String],
    description: 'Ids now as asked (already in the trash counts as deleted, not in it as restored), in the order given',
  })
  done!: string[];
  @ApiProperty({ type: [BulkSkippedDto] }) skipped!: BulkSkippedDto[];
}
