/** Shape of every error body of the REST API. `message` may be a list of field errors. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}
