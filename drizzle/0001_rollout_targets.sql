ALTER TABLE "rollout_members" DROP CONSTRAINT "rollout_members_rollout_uid_rollout_targets_uid_fk";
