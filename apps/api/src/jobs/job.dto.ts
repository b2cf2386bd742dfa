import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import {
  DEFAULT_PAGE_SIZE,
  FILE_TYPES,
  FileType,
  JOB_STATUSES,
  JobPage,
  JobStatus,
  JobView,
  MAX_PAGE_SIZE,
  Rejected,
  REJECTION_CODES,
  RejectionCode,
  UploadResult,
} from '@app/shared';

export class JobDto implements JobView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'holiday.jpg' }) originalFilename!: string;
  @ApiProperty({ enum: FILE_TYPES }) fileType!: FileType;
  @ApiProperty({ example: 'image/jpeg' }) mimeType!: string;
  @ApiProperty({ example: 2483021, description: 'Bytes' }) fileSize!: number;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({ type: String, nullable: true, example: null }) errorMessage!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Signed, expiring URL of the thumbnail; works in an <img> tag' })
  thumbnailUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Signed, expiring URL that downloads the thumbnail as an attachment' })
  downloadUrl!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completedAt!: string | null;
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
