import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { QueueDashboard } from '@app/jobs';
import { AdminAccess } from './admin-access';

const QUEUE_DASHBOARD_PATH = '/api/admin/queues';

/**
 * bull-board at /api/admin/queues for operators, behind the admin check (Bearer token or the
 * admin cookie); anyone else gets the same 404 as any unknown path.
 */
export function mountQueueDashboard(app: INestApplication): void {
  const access = app.get(AdminAccess);
  const guard = (req: Request, res: Response, next: NextFunction) => {
    access
      .adminOf(req)
      .then((admin) => (admin ? next() : res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'Not found' })), next);
  };
  app.use(QUEUE_DASHBOARD_PATH, guard, app.get(QueueDashboard).router(QUEUE_DASHBOARD_PATH));
}
